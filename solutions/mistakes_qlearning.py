"""Known mistakes in `qlearning`, each with the hint a student gets when their code makes it.

Instructor-only (never generated into exercises/). Each function reproduces one
mistake; it must be self-contained: NumPy only, no helpers from this file.
Exploration mistakes are recognised by the frequencies of many draws, not draw by draw.
"""

import numpy as np

from grader.testing import mistake


@mistake(
    "epsilon_greedy",
    "epsilon is the probability to explore: take a random action when rng.random() < epsilon",
)
def epsilon_greedy_with_epsilon_inverted(q_values, epsilon, rng):
    if rng.random() < 1 - epsilon:
        return int(rng.integers(len(q_values)))
    return int(np.argmax(q_values))


@mistake(
    "epsilon_greedy",
    "exploration picks among all actions, the greedy one included: P(greedy) = 1 - eps + eps/A",
)
def epsilon_greedy_explores_only_the_others(q_values, epsilon, rng):
    greedy = int(np.argmax(q_values))
    if rng.random() < epsilon:
        others = [a for a in range(len(q_values)) if a != greedy]
        return int(others[rng.integers(len(others))])
    return greedy


@mistake("ucb_action", "the bonus is c * sqrt(ln(t) / counts): you left out the logarithm")
def ucb_without_the_log(counts, values, t, c=2.0):
    untried = np.flatnonzero(counts == 0)
    if untried.size:
        return int(untried[0])
    return int(np.argmax(values + c * np.sqrt(t / counts)))


@mistake("ucb_action", "the exploration bonus is weighted by c: values + c * sqrt(ln(t) / counts)")
def ucb_ignores_c(counts, values, t, c=2.0):
    untried = np.flatnonzero(counts == 0)
    if untried.size:
        return int(untried[0])
    return int(np.argmax(values + np.sqrt(np.log(t) / counts)))


@mistake(
    "q_learning_update",
    "a terminated transition has no future: the target is r alone, without gamma * max Q[s_next]",
)
def q_learning_ignores_terminated(Q, s, a, r, s_next, terminated, alpha, gamma):
    Q[s, a] += alpha * (r + gamma * np.max(Q[s_next]) - Q[s, a])
    return Q


@mistake(
    "q_learning_update",
    "Q-learning bootstraps on the best next action: max Q[s_next], not the mean",
)
def q_learning_with_the_mean(Q, s, a, r, s_next, terminated, alpha, gamma):
    future = 0.0 if terminated else gamma * np.mean(Q[s_next])
    Q[s, a] += alpha * (r + future - Q[s, a])
    return Q


@mistake(
    "q_learning_update", "the step is alpha * (target - Q[s, a]): subtract the current estimate"
)
def q_learning_without_the_error(Q, s, a, r, s_next, terminated, alpha, gamma):
    future = 0.0 if terminated else gamma * np.max(Q[s_next])
    Q[s, a] += alpha * (r + future)
    return Q


@mistake(
    "sarsa_update",
    "SARSA bootstraps on the action taken next, Q[s_next, a_next]; max Q[s_next] is Q-learning",
)
def sarsa_on_the_max(Q, s, a, r, s_next, a_next, terminated, alpha, gamma):
    future = 0.0 if terminated else gamma * np.max(Q[s_next])
    Q[s, a] += alpha * (r + future - Q[s, a])
    return Q


@mistake("sarsa_update", "a terminated transition has no future: the target is r alone")
def sarsa_ignores_terminated(Q, s, a, r, s_next, a_next, terminated, alpha, gamma):
    Q[s, a] += alpha * (r + gamma * Q[s_next, a_next] - Q[s, a])
    return Q


@mistake("greedy_policy", "the greedy action of a state is the argmax over its actions (axis=1)")
def greedy_policy_over_states(Q):
    return np.argmax(Q, axis=0)


@mistake(
    "train_q_learning",
    "on a table of zeros every action ties: break ties at random while training, or argmax walks into the same wall",
)
def train_without_random_tie_breaking(env, n_episodes, alpha=0.5, gamma=0.99, epsilon=0.1, seed=0):
    rng = np.random.default_rng(seed)
    Q = np.zeros((env.observation_space.n, env.action_space.n))
    for episode in range(n_episodes):
        s, _ = env.reset(seed=seed if episode == 0 else None)
        done = False
        while not done:
            if rng.random() < epsilon:
                a = int(rng.integers(Q.shape[1]))
            else:
                best = np.flatnonzero(Q[s] == Q[s].max())
                a = int(best[0])
            s_next, r, terminated, truncated, _ = env.step(a)
            Q[s, a] += alpha * (r + (0.0 if terminated else gamma * np.max(Q[s_next])) - Q[s, a])
            s, done = s_next, terminated or truncated
    return Q


@mistake(
    "epsilon_greedy",
    "on ties the lowest index wins (np.argmax does that): a >= comparison keeps the last tied action",
)
def epsilon_greedy_ties_to_the_last(q_values, epsilon, rng):
    if rng.random() < epsilon:
        return int(rng.integers(len(q_values)))
    return int(len(q_values) - 1 - np.argmax(q_values[::-1]))


@mistake(
    "epsilon_greedy",
    "the greedy action is deterministic: the argmax, the lowest index on ties; no random choice "
    "among the tied actions",
)
def epsilon_greedy_breaks_ties_at_random(q_values, epsilon, rng):
    if rng.random() < epsilon:
        return int(rng.integers(len(q_values)))
    return int(rng.choice(np.flatnonzero(q_values == np.max(q_values))))


@mistake(
    "epsilon_greedy",
    "exploration draws from all A actions, rng.integers(A): rng.integers(A - 1) never explores the "
    "last action (an off-by-one)",
)
def epsilon_greedy_never_explores_the_last_action(q_values, epsilon, rng):
    if rng.random() < epsilon:
        return int(rng.integers(len(q_values) - 1))
    return int(np.argmax(q_values))


@mistake(
    "ucb_action",
    "an arm never tried (count 0) is played first, before any bonus is computed: replacing its "
    "count by 1 treats it as tried once",
)
def ucb_counts_untried_arms_as_tried_once(counts, values, t, c=2.0):
    counts = np.maximum(counts, 1)
    return int(np.argmax(values + c * np.sqrt(np.log(t) / counts)))


@mistake(
    "ucb_action",
    "the first untried arm, the lowest index, goes first: untried[0], not the last one",
)
def ucb_plays_the_last_untried_arm(counts, values, t, c=2.0):
    untried = np.flatnonzero(counts == 0)
    if untried.size:
        return int(untried[-1])
    return int(np.argmax(values + c * np.sqrt(np.log(t) / counts)))


@mistake("ucb_action", "the bonus is c * sqrt(ln(t) / counts): the square root (sqrt) is missing")
def ucb_without_the_square_root(counts, values, t, c=2.0):
    untried = np.flatnonzero(counts == 0)
    if untried.size:
        return int(untried[0])
    return int(np.argmax(values + c * np.log(t) / counts))


@mistake(
    "ucb_action",
    "c multiplies the square root: c * sqrt(ln(t) / counts), not sqrt(c * ln(t) / counts)",
)
def ucb_c_inside_the_square_root(counts, values, t, c=2.0):
    untried = np.flatnonzero(counts == 0)
    if untried.size:
        return int(untried[0])
    return int(np.argmax(values + np.sqrt(c * np.log(t) / counts)))


@mistake(
    "q_learning_update",
    "the step is scaled by alpha: Q[s, a] += alpha * (target - Q[s, a]); yours jumps to the target",
)
def q_learning_jumps_to_the_target(Q, s, a, r, s_next, terminated, alpha, gamma):
    Q[s, a] = r + (0.0 if terminated else gamma * np.max(Q[s_next]))
    return Q


@mistake(
    "q_learning_update",
    "on a terminal transition the target is the reward r itself: (1 - terminated) multiplies only "
    "the future gamma * max Q[s_next], not r",
)
def q_learning_terminal_drops_the_reward(Q, s, a, r, s_next, terminated, alpha, gamma):
    target = (r + gamma * np.max(Q[s_next])) * (1 - terminated)
    Q[s, a] += alpha * (target - Q[s, a])
    return Q


@mistake(
    "q_learning_update",
    "return Q: q_learning_update returns the updated table (yours returns None)",
)
def q_learning_returns_nothing(Q, s, a, r, s_next, terminated, alpha, gamma):
    future = 0.0 if terminated else gamma * np.max(Q[s_next])
    Q[s, a] += alpha * (r + future - Q[s, a])


@mistake(
    "q_learning_update",
    "bootstrap on the next state: max Q[s_next], not max Q[s] of the current state",
)
def q_learning_bootstraps_on_the_current_state(Q, s, a, r, s_next, terminated, alpha, gamma):
    future = 0.0 if terminated else gamma * np.max(Q[s])
    Q[s, a] += alpha * (r + future - Q[s, a])
    return Q


@mistake(
    "sarsa_update",
    "SARSA bootstraps on the next action: Q[s_next, a_next], not Q[s_next, a]",
)
def sarsa_bootstraps_on_the_current_action(Q, s, a, r, s_next, a_next, terminated, alpha, gamma):
    future = 0.0 if terminated else gamma * Q[s_next, a]
    Q[s, a] += alpha * (r + future - Q[s, a])
    return Q


@mistake(
    "greedy_policy",
    "the policy is the best action's index, np.argmax(Q, axis=1), not its value np.max",
)
def greedy_policy_returns_the_values(Q):
    return np.max(Q, axis=1)


# Training mistakes are replayed with the reference's order of draws (rng.random(), then
# rng.integers or rng.choice): a submission that draws otherwise is not named by them.
@mistake(
    "train_q_learning",
    "after each step the agent moves on: s = s_next (yours keeps updating the start state)",
)
def train_never_moves_on(env, n_episodes, alpha=0.5, gamma=0.99, epsilon=0.1, seed=0):
    rng = np.random.default_rng(seed)
    Q = np.zeros((env.observation_space.n, env.action_space.n))
    for episode in range(n_episodes):
        s, _ = env.reset(seed=seed if episode == 0 else None)
        done = False
        while not done:
            if rng.random() < epsilon:
                a = int(rng.integers(Q.shape[1]))
            else:
                a = int(rng.choice(np.flatnonzero(Q[s] == Q[s].max())))
            s_next, r, terminated, truncated, _ = env.step(a)
            Q[s, a] += alpha * (r + (0.0 if terminated else gamma * np.max(Q[s_next])) - Q[s, a])
            done = terminated or truncated
    return Q


@mistake(
    "train_q_learning",
    "a truncated episode was cut short by the time limit, it did not end: bootstrap on it "
    "(pass terminated, not terminated or truncated)",
)
def train_treats_truncation_as_termination(
    env, n_episodes, alpha=0.5, gamma=0.99, epsilon=0.1, seed=0
):
    rng = np.random.default_rng(seed)
    Q = np.zeros((env.observation_space.n, env.action_space.n))
    for episode in range(n_episodes):
        s, _ = env.reset(seed=seed if episode == 0 else None)
        done = False
        while not done:
            if rng.random() < epsilon:
                a = int(rng.integers(Q.shape[1]))
            else:
                a = int(rng.choice(np.flatnonzero(Q[s] == Q[s].max())))
            s_next, r, terminated, truncated, _ = env.step(a)
            done = terminated or truncated
            Q[s, a] += alpha * (r + (0.0 if done else gamma * np.max(Q[s_next])) - Q[s, a])
            s = s_next
    return Q


@mistake(
    "train_q_learning",
    "alpha and gamma are swapped in the call: q_learning_update(Q, s, a, r, s_next, terminated, "
    "alpha, gamma)",
)
def train_swaps_alpha_and_gamma(env, n_episodes, alpha=0.5, gamma=0.99, epsilon=0.1, seed=0):
    rng = np.random.default_rng(seed)
    Q = np.zeros((env.observation_space.n, env.action_space.n))
    for episode in range(n_episodes):
        s, _ = env.reset(seed=seed if episode == 0 else None)
        done = False
        while not done:
            if rng.random() < epsilon:
                a = int(rng.integers(Q.shape[1]))
            else:
                a = int(rng.choice(np.flatnonzero(Q[s] == Q[s].max())))
            s_next, r, terminated, truncated, _ = env.step(a)
            Q[s, a] += gamma * (r + (0.0 if terminated else alpha * np.max(Q[s_next])) - Q[s, a])
            s, done = s_next, terminated or truncated
    return Q


@mistake(
    "train_q_learning",
    "start from a table of zeros, np.zeros((S, A)): the rows of terminal states are never "
    "updated and keep their initial values",
)
def train_starts_from_ones(env, n_episodes, alpha=0.5, gamma=0.99, epsilon=0.1, seed=0):
    rng = np.random.default_rng(seed)
    Q = np.ones((env.observation_space.n, env.action_space.n))
    for episode in range(n_episodes):
        s, _ = env.reset(seed=seed if episode == 0 else None)
        done = False
        while not done:
            if rng.random() < epsilon:
                a = int(rng.integers(Q.shape[1]))
            else:
                a = int(rng.choice(np.flatnonzero(Q[s] == Q[s].max())))
            s_next, r, terminated, truncated, _ = env.step(a)
            Q[s, a] += alpha * (r + (0.0 if terminated else gamma * np.max(Q[s_next])) - Q[s, a])
            s, done = s_next, terminated or truncated
    return Q


@mistake(
    "train_q_learning",
    "the last transition of an episode (the one that reaches the goal) is never applied: "
    "update Q before you leave the episode's loop",
)
def train_skips_the_last_transition(env, n_episodes, alpha=0.5, gamma=0.99, epsilon=0.1, seed=0):
    rng = np.random.default_rng(seed)
    Q = np.zeros((env.observation_space.n, env.action_space.n))
    for episode in range(n_episodes):
        s, _ = env.reset(seed=seed if episode == 0 else None)
        while True:
            if rng.random() < epsilon:
                a = int(rng.integers(Q.shape[1]))
            else:
                a = int(rng.choice(np.flatnonzero(Q[s] == Q[s].max())))
            s_next, r, terminated, truncated, _ = env.step(a)
            if terminated or truncated:
                break
            Q[s, a] += alpha * (r + gamma * np.max(Q[s_next]) - Q[s, a])
            s = s_next
    return Q
