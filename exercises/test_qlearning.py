# Public tests of `qlearning`: run them with  dlgrade check qlearning
# (the graders also run hidden tests, which are not in this file)
# Generated from solutions/test_qlearning.py by `dlgrade generate`: do not edit.
"""Graders of `qlearning`: the updates exactly, exploration by its statistics, training by its outcome.

`student` is your module, `rng` a random generator seeded for you. Environments
and random generators you are given live with your code (built from their
names); the grader reads the rules of each environment from its transition
table and computes the optimal values by value iteration with PyTorch.

Every rule of the docstrings, and the tests that exercise it (hidden ones marked *):
  epsilon_greedy: the argmax at epsilon 0, the lowest index on ties . test_epsilon_greedy_is_greedy_at_epsilon_zero
        explore with probability epsilon, uniformly over all A actions . test_epsilon_greedy_frequencies
        rng is the only source of randomness . test_epsilon_greedy_draws_only_from_rng*
        q_values left unmodified ....... test_epsilon_greedy_leaves_q_values_unchanged*
  ucb_action: an untried arm first, the lowest index . test_ucb_tries_untried_arms_first,
                                             test_ucb_plays_every_arm_once_first*
        argmax of values + c sqrt(ln t / counts) . test_ucb_matches_torch (inputs where c and ln t
                                             change the arm), test_ucb_uses_the_log_of_t_and_c*
        ties go to the lowest index ....... test_ucb_uses_the_log_of_t_and_c*
  q_learning_update: r + gamma max Q[s_next] - Q[s, a], scaled by alpha . test_q_learning_update_matches_torch
        no future after a terminated transition . test_updates_on_a_terminal_transition*
        step after step (s_next = s, in place or copied) . test_updates_along_an_episode*
  sarsa_update: bootstraps on Q[s_next, a_next] . test_sarsa_update_matches_torch,
                                             test_updates_along_an_episode*
        no future after a terminated transition . test_updates_on_a_terminal_transition*
  greedy_policy: argmax per state ......... test_greedy_policy_matches_torch, test_greedy_policy_solves_frozen_lake_8x8*
        ties go to the lowest index ....... test_greedy_policy_ties_go_to_the_lowest_index*
  train_q_learning: solves deterministic FrozenLake by a shortest path, values -> Q* .
                                             test_train_q_learning_finds_a_shortest_path_on_frozen_lake
        the cliff-edge path on CliffWalking . test_train_q_learning_walks_the_cliff_edge
        from zeros: terminal rows stay 0 .. test_train_q_learning_finds_a_shortest_path_on_frozen_lake,
                                             test_train_q_learning_walks_the_cliff_edge
        ties broken at random while training . test_train_q_learning_breaks_ties_at_random*
        bootstraps when truncated, not when terminated; stops at either .
                                             test_train_q_learning_bootstraps_after_a_truncation*
        seed seeds the environment and the exploration . test_train_q_learning_is_reproducible*
"""

import math

import gymnasium
import numpy as np
import pytest

from grader.testing import (
    about,
    expect,
    expect_array,
    expect_number,
    expect_shape,
    expect_unmodified,
    oracle,
    torch,
)


# -- the PyTorch references -----------------------------------------------------------------
@oracle
def q_learning_update_ref(Q, s, a, r, s_next, terminated, alpha, gamma):
    Q = Q.clone()
    future = 0.0 if terminated else gamma * Q[s_next].max()
    Q[s, a] += alpha * (r + future - Q[s, a])
    return Q


@oracle
def sarsa_update_ref(Q, s, a, r, s_next, a_next, terminated, alpha, gamma):
    Q = Q.clone()
    future = 0.0 if terminated else gamma * Q[s_next, a_next]
    Q[s, a] += alpha * (r + future - Q[s, a])
    return Q


@oracle
def greedy_ref(Q):
    return torch.argmax(Q, dim=1)  # documented: the first maximal index


@oracle
def ucb_ref(counts, values, t, c):
    untried = torch.nonzero(counts == 0)
    if len(untried):
        return int(untried[0, 0])
    return int(torch.argmax(values + c * torch.sqrt(math.log(t) / counts)))


@oracle
def epsilon_greedy_probabilities(q_values, epsilon):
    """P(action) under epsilon-greedy: epsilon/A each, plus 1 - epsilon on the greedy action."""
    probs = torch.full_like(q_values, epsilon / len(q_values))
    probs[torch.argmax(q_values)] += 1.0 - epsilon
    return probs


@oracle
def value_iteration(probs, rewards, cont, gamma):
    """Q* of a finite MDP as tensor operations: Q = R + gamma * C @ max_a Q, iterated to a fixed point.

    probs, cont: (S, A, S) transition probabilities and the same without terminal transitions;
    rewards: (S, A) expected immediate rewards.
    """
    Q = torch.zeros_like(rewards)
    for _ in range(10_000):
        Q_new = rewards + gamma * cont @ Q.max(dim=1).values
        if torch.max(torch.abs(Q_new - Q)) < 1e-12:
            return Q_new
        Q = Q_new
    return Q


# training applies q_learning_update at every step: a failure of training is sent there first
BUILDS_ON = {"train_q_learning": ("q_learning_update",)}


# -- environments, as the grader sees them -------------------------------------------------------
FROZEN_LAKE = ("FrozenLake-v1", {"is_slippery": False})
FROZEN_LAKE_8X8 = ("FrozenLake-v1", {"map_name": "8x8", "is_slippery": False})
CLIFF_WALKING = ("CliffWalking-v1", {})
# for training checks: an agent that never learns stops after 200 steps an episode, not never
CLIFF_WALKING_CAPPED = ("CliffWalking-v1", {"max_episode_steps": 200})


def env_model(env_id, kwargs):
    """The transition table of an environment, as dense arrays, and its start state."""
    env = gymnasium.make(env_id, disable_env_checker=True, **kwargs)
    table = env.unwrapped.P
    S, A = env.observation_space.n, env.action_space.n
    probs, cont, rewards = np.zeros((S, A, S)), np.zeros((S, A, S)), np.zeros((S, A))
    for s in range(S):
        for a in range(A):
            for p, s_next, r, terminated in table[s][a]:
                probs[s, a, s_next] += p
                cont[s, a, s_next] += p * (not terminated)
                rewards[s, a] += p * r
    start = int(env.reset(seed=0)[0])
    return table, probs, cont, rewards, start


def greedy_path(table, Q, start, max_steps=200):
    """Follows argmax Q (ties: lowest index) from `start` in a deterministic environment."""
    states, total, s = [], 0.0, start
    for _ in range(max_steps):
        states.append(s)
        a = int(np.argmax(Q[s]))
        (_, s_next, r, terminated), *_ = table[s][a]
        total += r
        s = int(s_next)
        if terminated:
            return states, total, True
    return states, total, False


def train_student(student, env_spec, n_episodes, seed, **params):
    env_id, kwargs = env_spec
    env = student.new("gymnasium.make", env_id, disable_env_checker=True, **kwargs)
    return student.train_q_learning(env, n_episodes, seed=seed, **params)


def terminal_states(table, start):
    """The states a transition ends the episode in: their rows are never updated."""
    return sorted(
        {int(s_next) for s in table for a in table[s] for _, s_next, _, done in table[s][a] if done}
        - {start}
    )


def training_hint(Q, table, start, params, q_star_of_gamma):
    """What a trained table that fails its test says about the training loop, when it clearly
    says something; None otherwise. ``q_star_of_gamma(g)`` is value iteration's Q* for discount g."""
    if np.all(Q == Q.flat[0]):
        return None  # a table of one value (zeros, ones) is what many wrong loops give
    ends = terminal_states(table, start)
    if np.any(Q[ends]):
        return (
            "the rows of terminal states are never updated, so they keep the values the table "
            "started with, and yours are not 0: start from a table of zeros, np.zeros((S, A))"
        )
    others = [s for s in range(Q.shape[0]) if s != start]
    if np.any(Q[start]) and not np.any(Q[others]):
        return (
            "only the start state's values changed: after each step the agent moves on, s = s_next"
        )
    into_goal = [
        (s, a)
        for s in table
        for a in table[s]
        for _, s_next, r, done in table[s][a]
        if done and r != 0 and np.any(Q[s])
    ]
    if into_goal and all(Q[s, a] == 0 for s, a in into_goal):
        return (
            "the last transition of an episode (the one that reaches the goal) never updated the "
            "table: apply q_learning_update before you leave the episode's loop"
        )
    if params["alpha"] != params["gamma"]:
        swapped = q_star_of_gamma(params["alpha"])
        visited = [s for s in range(Q.shape[0]) if np.any(Q[s])]
        got = np.array([Q[s].max() for s in visited])
        want = np.array([swapped[s].max() for s in visited])
        if len(set(np.round(want, 6))) >= 3 and np.allclose(got, want, atol=1e-4):
            return (
                f"your values are those of a discount gamma = {params['alpha']:g}, your alpha: are "
                "alpha and gamma swapped in the call to q_learning_update(..., alpha, gamma)?"
            )
    return None


def check_training(student, rng, env_spec, n_episodes, params, describe, check_values=True):
    """Trains on `env_spec` and checks the greedy path: `describe` names what is wrong with it, or None.

    A correct implementation fails one run with probability below 1e-3 (measured over
    1,000 seeds of the reference); a failed run is retried once with a fresh seed, so a
    correct submission fails this test with probability below 1e-6.
    """
    table, probs, cont, rewards, start = env_model(*env_spec)
    q_star = value_iteration(probs, rewards, cont, params["gamma"])
    S, A = rewards.shape

    def fail(message, Q, trained):
        hint = training_hint(
            Q, table, start, params, lambda g: value_iteration(probs, rewards, cont, g)
        ) or dropped_update_hint(student, Q, table)  # which may call the submission again:
        with about(trained):  # the failure still names the training run
            expect(False, message, hint=hint)

    for attempt in (1, 2):
        seed = int(rng.integers(1_000_000))
        Q = train_student(student, env_spec, n_episodes, seed, **params)
        trained = student.last
        expect_shape(Q, (S, A), name="the Q-table")
        states, total, done = greedy_path(table, Q, start)
        problem = describe(states, total, done)
        if problem is None:
            break
        if attempt == 2:
            fail(f"after {n_episodes} episodes (seeds tried: two), {problem}", Q, trained)
    ends = terminal_states(table, start)
    if np.any(Q[ends]):
        message = (
            f"the terminal states {ends} are never left, so their rows are never updated and "
            "stay at the table's start: 0"
        )
        fail(message, Q, trained)
    if not check_values:
        return seed
    worst = max(states, key=lambda s: abs(Q[s].max() - q_star[s].max()))
    if abs(Q[worst].max() - q_star[worst].max()) >= 1e-3:
        message = (
            f"along the greedy path the values should approach those of value iteration; in state "
            f"{worst} max Q is {Q[worst].max():.6g}, value iteration gives {q_star[worst].max():.6g}"
        )
        fail(message, Q, trained)
    return seed


def dropped_update_hint(student, Q, table):
    """A table of zeros after training where every step is rewarded, from a q_learning_update
    that is right and returns a new table: the training loop dropped what it returned."""
    if np.any(Q) or not all(r != 0 for s in table for a in table[s] for _, _, r, _ in table[s][a]):
        return None
    probe = student.call("q_learning_update", np.zeros((2, 2)), 0, 1, -1.0, 1, False, 0.5, 0.9)
    result = probe.result
    if probe.modified() or not isinstance(result, np.ndarray) or result.shape != (2, 2):
        return None
    if not np.allclose(result, [[0.0, -0.5], [0.0, 0.0]]):
        return None
    return (
        "your q_learning_update returns a new table (allowed), and after training your table is "
        "still all zeros: keep what it returns, Q = q_learning_update(...)"
    )


# -- public tests ---------------------------------------------------------------------------------
def actions(drawn, A):
    """The actions epsilon_greedy returned, as ints, once each is known to be one of 0..A-1."""
    for d in drawn:
        if isinstance(d, bool) or not isinstance(d, int | np.integer) or not 0 <= d < A:
            expect_number(d, name="the action", integer=True)
            expect(False, f"epsilon_greedy returned {d!r}, which is not an action in 0..{A - 1}")
    return [int(d) for d in drawn]


@pytest.mark.points(2)
def test_epsilon_greedy_is_greedy_at_epsilon_zero(student, rng):
    """With epsilon = 0, epsilon_greedy always returns the argmax, the lowest index on ties
    (two action-value vectors whose best actions differ, each with a tie at the top)."""
    A = int(rng.integers(5, 8))
    while True:  # two actions share the highest value, neither of them the first or the last
        tied = rng.choice(np.arange(1, A - 1), size=2, replace=False)
        if tied.sum() != A - 1:  # so that the reversed values have their best action elsewhere
            break
    first = rng.integers(0, 3, size=A).astype(np.float64)
    first[tied] = 3.0
    second = first[::-1].copy()  # the same ties, elsewhere
    cases = [first, second]
    draws = [
        student.repeat(
            "epsilon_greedy", 500, q, 0.0, student.new("numpy.random.default_rng", int(seed))
        )
        for q, seed in zip(cases, rng.integers(1_000_000, size=2))
    ]
    for q, drawn in zip(cases, draws):
        wrong = [d for d in actions(drawn, A) if d != int(np.argmax(q))]
        if wrong:
            expect(
                False,
                f"for q_values {q.tolist()} and epsilon 0 got action {wrong[0]!r}; "
                f"expected {int(np.argmax(q))} (the argmax, lowest index on ties) every time",
            )


@pytest.mark.points(3)
def test_epsilon_greedy_frequencies(student, rng):
    """Over 20,000 draws each action's frequency is within Hoeffding bounds of epsilon/A
    (plus 1 - epsilon for the greedy action). The bounds are set so that a correct
    implementation fails with probability below one in a million."""
    # epsilon and A such that the usual mistakes (epsilon inverted, exploring only the other
    # actions) differ from the right frequencies, and from each other, by more than the bounds.
    A, epsilon, n = int(rng.integers(3, 5)), float(rng.uniform(0.25, 0.35)), 20_000
    q = rng.permutation(A).astype(np.float64)  # distinct values: one greedy action,
    if np.argmax(q) == A - 1:  # never the last one (exploring all but the greedy action, or all
        q[[0, A - 1]] = q[[A - 1, 0]]  # but the last, must give different frequencies)
    expected = epsilon_greedy_probabilities(q, epsilon)
    generator = student.new("numpy.random.default_rng", int(rng.integers(1_000_000)))
    draws = actions(student.repeat("epsilon_greedy", n, q, epsilon, generator), A)
    freq = np.bincount(np.asarray(draws, dtype=np.int64), minlength=A) / n
    # Hoeffding: P(|freq - p| >= t) <= 2 exp(-2 n t^2) per action; a union bound over A actions.
    t = math.sqrt(math.log(2 * A / 1e-6) / (2 * n))
    worst = int(np.argmax(np.abs(freq - expected)))
    expect(
        abs(freq[worst] - expected[worst]) < t,
        f"with epsilon = {epsilon:.3f} and {A} actions, action {worst} was chosen {freq[worst]:.4f} of the "
        f"time; expected {expected[worst]:.4f} +- {t:.4f} (greedy: 1 - eps + eps/A, others: eps/A)",
    )


@pytest.mark.points(2)
def test_ucb_tries_untried_arms_first(student, rng):
    """ucb_action plays an arm never tried before any other, the lowest index first, however
    good the tried arms look (their values are far above any bonus)."""
    cases = []
    for first in (1, 2, 3, 4):  # the first untried arm differs from case to case, never 0
        A = int(rng.integers(first + 2, 9))
        counts = rng.integers(1, 10, size=A)
        counts[first] = 0
        counts[rng.integers(first + 1, A)] = 0  # and a second one after it
        values = np.where(counts > 0, rng.uniform(20, 30, size=A), 0.0)
        cases.append((counts, values, int(counts.sum()) + 1))
    calls = [student.call("ucb_action", *case) for case in cases]  # all four, then check them
    for (counts, values, t), call in zip(cases, calls):
        with about(call):
            got = expect_number(call.result, name="the arm", integer=True)
            expect(
                got == ucb_ref(counts, values, t, 2.0),
                f"for counts {counts.tolist()} arm {got} was chosen, but arm "
                f"{int(np.flatnonzero(counts == 0)[0])} was never tried (and is the first such arm)",
            )


def ucb_slip_arms(counts, values, t, c):
    """The arm of the rule, then those of the usual slips: leaving out c, ln t or the square
    root, and putting c inside it."""
    return [
        int(np.argmax(u))
        for u in (
            values + c * np.sqrt(math.log(t) / counts),
            values + np.sqrt(math.log(t) / counts),
            values + c * np.sqrt(t / counts),
            values + c * math.log(t) / counts,
            values + np.sqrt(c * math.log(t) / counts),
        )
    ]


def ucb_cases(rng, n=10):
    """``n`` cases (counts, values, t, c) on which every usual slip picks another arm than the
    rule in at least three, and, where the draws allow, than each other."""
    cases, shown = [], [0, 0, 0, 0]
    for _ in range(2000):
        if len(cases) == n:
            break
        A = int(rng.integers(4, 8))
        counts = rng.integers(1, 50, size=A)
        t = int(counts.sum())
        c = float(rng.choice([rng.uniform(0.1, 0.5), rng.uniform(2.0, 4.0)]))
        values = rng.normal(size=A) * c * math.sqrt(math.log(t))
        arms = ucb_slip_arms(counts, values, t, c)
        differ = [int(arm != arms[0]) for arm in arms[1:]]
        needed = [k for k in range(4) if shown[k] < 3]
        left = n - len(cases)
        if (
            len(set(arms)) == len(arms)
            or (any(differ[k] for k in needed) and len(needed) <= left)
            or (not needed and len(set(arms)) >= 3)
        ):
            cases.append((counts, values, t, c))
            shown = [shown[k] + differ[k] for k in range(4)]
    return cases


@pytest.mark.points(2)
def test_ucb_matches_torch(student, rng):
    """ucb_action picks the argmax of values + c * sqrt(ln t / counts) when every arm was tried
    (on inputs where leaving out c, ln t or the square root, or putting c inside it, would
    change the arm)."""
    cases = ucb_cases(rng)
    calls = [student.call("ucb_action", *case) for case in cases]  # all ten, then check them
    for (counts, values, t, c), call in zip(cases, calls):
        want = ucb_ref(counts, values, t, c)
        with about(call):
            got = expect_number(call.result, name="the arm", integer=True)
            expect(
                got == want,
                f"for counts {counts.tolist()}, values {np.round(values, 3).tolist()}, t = {t}, c = {c:.3f} "
                f"arm {got} was chosen, expected {want}",
            )


@pytest.mark.points(2)
def test_q_learning_update_matches_torch(student, rng):
    """q_learning_update moves Q[s, a] by alpha * (r + gamma * max Q[s_next] - Q[s, a])."""
    S, A = int(rng.integers(3, 8)), int(rng.integers(2, 5))
    Q = rng.normal(size=(S, A))
    s, a, s_next = int(rng.integers(S)), int(rng.integers(A)), int(rng.integers(S))
    r, alpha, gamma = (
        float(rng.normal()),
        float(rng.uniform(0.1, 0.9)),
        float(rng.uniform(0.5, 0.99)),
    )
    expected = q_learning_update_ref(Q, s, a, r, s_next, False, alpha, gamma)
    expect_array(
        student.q_learning_update(Q, s, a, r, s_next, False, alpha, gamma),
        expected,
        name="the updated Q",
    )


@pytest.mark.points(2)
def test_sarsa_update_matches_torch(student, rng):
    """sarsa_update bootstraps on Q[s_next, a_next], the action actually taken next (here an
    exploring one, not the greedy one: that is where SARSA and Q-learning differ; the action
    taken now is a third one)."""
    S, A = int(rng.integers(3, 8)), int(rng.integers(3, 6))
    Q = rng.normal(size=(S, A))
    s, s_next = int(rng.integers(S)), int(rng.integers(S))
    greedy = int(np.argmax(Q[s_next]))
    a_next = int((greedy + rng.integers(1, A)) % A)  # an exploring next action
    a = int(rng.choice([x for x in range(A) if x not in (greedy, a_next)]))  # and another one
    r, alpha, gamma = (
        float(rng.normal()),
        float(rng.uniform(0.1, 0.9)),
        float(rng.uniform(0.5, 0.99)),
    )
    expected = sarsa_update_ref(Q, s, a, r, s_next, a_next, False, alpha, gamma)
    got = student.sarsa_update(Q, s, a, r, s_next, a_next, False, alpha, gamma)
    expect_array(got, expected, name="the updated Q")


@pytest.mark.points(1)
def test_greedy_policy_matches_torch(student, rng):
    """greedy_policy gives the argmax action of every state."""
    Q = rng.normal(size=(int(rng.integers(3, 10)), int(rng.integers(2, 5))))
    expect_array(student.greedy_policy(Q), greedy_ref(Q), name="the policy")


@pytest.mark.points(3)
def test_train_q_learning_finds_a_shortest_path_on_frozen_lake(student, rng):
    """On deterministic FrozenLake the learned greedy policy walks to the goal by a shortest
    path (6 steps), and the values along it approach those of value iteration."""

    def describe(states, total, done):
        if not done or total != 1.0:
            return "the greedy policy does not reach the goal: it " + (
                "falls into a hole" if done else "walks in circles"
            )
        if len(states) != 6:
            return f"the greedy policy reaches the goal in {len(states)} steps; the shortest path takes 6"
        return None

    params = {"alpha": 0.5, "gamma": 0.99, "epsilon": 0.3}
    check_training(student, rng, FROZEN_LAKE, 1000, params, describe)


@pytest.mark.points(3)
def test_train_q_learning_walks_the_cliff_edge(student, rng, artifacts):
    """On CliffWalking, Q-learning (off-policy) learns the risky path along the cliff edge,
    return -13, and the values along it approach those of value iteration."""

    def describe(states, total, done):
        if not done:
            return "the greedy policy does not reach the goal"
        if total != -13:
            return f"the greedy path has return {total:g}; Q-learning's greedy path along the cliff edge has -13"
        return None

    params = {"alpha": 0.5, "gamma": 0.99, "epsilon": 0.1}
    seed = check_training(student, rng, CLIFF_WALKING_CAPPED, 300, params, describe)
    if artifacts.wanted("learning_curve"):
        env = student.new("gymnasium.make_recorded", CLIFF_WALKING[0], disable_env_checker=True)
        student.train_q_learning(env, 300, seed=seed, **params)
        artifacts.add(
            "learning_curve",
            {
                "title": "Q-learning on CliffWalking-v1",
                "yours": student.new("episode_returns", env),
                "reference": list(CLIFF_WALKING_REFERENCE_RETURNS),
            },
        )


# The learning curve `dlgrade check qlearning --plot` draws beside the student's: the return of
# each of 300 episodes of the reference solution on CliffWalking-v1 (alpha 0.5, gamma 0.99,
# epsilon 0.1), averaged over seeds 0 to 19. Data, not code: a public file holds no training
# loop (tests/test_public_logic.py recomputes these numbers from solutions/qlearning.py).
# fmt: off
CLIFF_WALKING_REFERENCE_RETURNS = (
    -1728.05, -327.05, -149.25, -142.4, -125.9, -110.75, -124.35, -110.4, -118.95, -99.85, -127.45,
    -59.75, -117.9, -67.65, -81.45, -79.3, -63.15, -85.4, -69.65, -77.8, -87.55, -61.55, -70.95,
    -53.6, -59.1, -97.85, -40.4, -52.05, -49.8, -48.65, -42.6, -41.65, -32.2, -50.95, -47.4,
    -45.65, -58.3, -72.15, -52, -48.65, -90.4, -58.15, -37.15, -45.8, -67.5, -50.2, -57.7, -57.35,
    -66.4, -47.75, -50.65, -48.75, -48.4, -56.9, -37.15, -81.95, -68.8, -72.55, -47.95, -46.55,
    -56.75, -50.45, -46.5, -57.05, -42.45, -47.95, -67.5, -37.75, -40.7, -62.6, -34.65, -61.45,
    -51.15, -15.1, -32.6, -50.9, -57, -59.1, -56.6, -30.9, -41.4, -42.6, -84, -35.65, -100.5,
    -45.8, -62.25, -40.15, -57.85, -83.65, -30.1, -62.65, -68.5, -56.4, -46.15, -67.35, -20.3,
    -52.15, -77.6, -47.15, -68.9, -85.5, -37.5, -40.4, -69.25, -57.3, -56.95, -31.2, -41.25,
    -36.75, -51.4, -34.85, -46.4, -42.9, -41.65, -63.2, -46.45, -31.5, -62.2, -46.75, -100.05,
    -20.2, -85.2, -35.55, -46.95, -67.1, -47.1, -51.15, -31.05, -51.1, -45.65, -68.65, -82.6,
    -41.65, -63.6, -36.2, -46.6, -52.6, -94.55, -41.55, -56.45, -30.55, -50.75, -34.6, -30.35,
    -56.75, -40.55, -29.4, -46.6, -30.25, -30.9, -63.4, -36.45, -56.7, -50.7, -45.75, -41.7, -25.2,
    -29.85, -31.15, -79.8, -47, -35.95, -66.65, -55.8, -52.6, -46.1, -62.15, -48, -40.45, -41.8,
    -61.85, -41.8, -31.55, -51.1, -30.8, -58.4, -29.3, -57.7, -40, -45.8, -20.7, -52.7, -52.85,
    -67.6, -46.55, -52.75, -52.8, -67.6, -76.4, -58.2, -52.5, -35.65, -84.35, -62.8, -51.4, -40.6,
    -35.1, -53.2, -40.8, -51.35, -40.2, -41.2, -40.5, -67.7, -42.7, -41.8, -46.3, -52.25, -46.25,
    -42.15, -51.55, -40.35, -45, -40.55, -57.05, -57.1, -62.8, -24.8, -36.05, -46.5, -34.95,
    -46.05, -63.4, -46.55, -61.85, -35.95, -41.55, -46.15, -30, -73.5, -62.95, -55.9, -57.5, -45.9,
    -83.05, -46.05, -67.45, -41.55, -82, -35.05, -46.25, -31.55, -30.75, -53.25, -47.6, -67.05,
    -31.2, -30.9, -57.2, -52.2, -25.2, -61.8, -41.9, -36.5, -44.7, -57.2, -51.7, -75.3, -56.95,
    -46.6, -41.4, -41.35, -68, -30.3, -41.95, -46.15, -58.15, -19.7, -57.4, -31.95, -47.4, -57.05,
    -52.55, -40.9, -46.9, -25.05, -78.2, -56.1, -46.35, -66.75, -36.65, -51.2, -30, -40.9, -45.95,
    -84.3, -46.1, -47.25, -68.35, -41.5, -42.7, -68.5, -62.1, -35.85, -68.55, -51.2, -41.5, -36.1,
    -30.95,
)
# fmt: on
