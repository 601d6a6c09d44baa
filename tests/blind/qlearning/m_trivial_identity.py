# Exercise `qlearning`: replace each `raise NotImplementedError` with your code.
# Check your work with:  dlgrade check qlearning
# (generated from solutions/qlearning.py by `dlgrade generate`)
"""Bandits and tabular Q-learning: learning to act from rewards alone.

An agent in state ``s`` picks an action ``a``, gets a reward ``r`` and lands in
``s_next``. The action-value table ``Q[s, a]`` estimates the discounted return
of taking ``a`` in ``s`` and acting well afterwards. Two ideas run through the
file:

* exploration vs exploitation: acting greedily on a table that is still wrong
  can lock in a poor habit, so the agent sometimes tries something else
  (epsilon-greedy), or prefers actions it knows little about (UCB);
* temporal-difference learning: nudge ``Q[s, a]`` towards a target built from
  the reward and the table's own estimate of what follows,

      Q[s, a] <- Q[s, a] + alpha * (target - Q[s, a]).

  Q-learning's target uses the best next action, ``r + gamma * max Q[s_next]``
  (off-policy: it learns the greedy policy while exploring); SARSA's uses the
  action actually taken next, ``r + gamma * Q[s_next, a_next]`` (on-policy: it
  learns the value of the exploring policy, hence its safer paths). When the
  episode has *terminated* there is no future: the target is just ``r``.

Environments follow the Gymnasium API: ``s, info = env.reset(seed=...)`` and
``s, r, terminated, truncated, info = env.step(a)``.
"""

import numpy as np


def epsilon_greedy(q_values, epsilon, rng):
    """Chooses an action epsilon-greedily.

    With probability ``epsilon`` a uniformly random action (any of the A
    actions, the greedy one included), otherwise the greedy action
    ``argmax q_values`` (the lowest index on ties). So the greedy action has
    probability ``1 - epsilon + epsilon / A`` and every other ``epsilon / A``.

    Args:
        q_values: float64 array ``(A,)``, the values of the actions.
        epsilon: the exploration probability, in [0, 1].
        rng: a ``numpy.random.Generator``, the only source of randomness.

    Returns:
        The chosen action, an int in ``0..A-1``.

    Example:
        >>> epsilon_greedy(np.array([0.0, 2.0, 2.0]), 0.0, np.random.default_rng(0))
        1
    """
    return q_values


def ucb_action(counts, values, t, c=2.0):
    """Chooses a bandit arm by the upper confidence bound (UCB1).

    An arm never tried goes first (the lowest index among them). Otherwise the
    arm with the highest optimistic estimate

        values[a] + c * sqrt(ln(t) / counts[a])

    where the bonus shrinks as an arm is tried more and grows slowly with the
    total number of plays ``t``.

    Args:
        counts: int array ``(A,)``, how often each arm was played.
        values: float64 array ``(A,)``, the mean reward of each arm so far.
        t: the total number of plays so far (>= 1).
        c: the weight of the exploration bonus.

    Returns:
        The chosen arm, an int.

    Example:
        >>> ucb_action(np.array([3, 1]), np.array([1.0, 0.5]), t=4, c=2.0)
        1
    """
    return counts


def q_learning_update(Q, s, a, r, s_next, terminated, alpha, gamma):
    """One Q-learning step on the transition ``(s, a, r, s_next)``.

        target = r + gamma * max_a' Q[s_next, a'] * (1 - terminated)
        Q[s, a] <- Q[s, a] + alpha * (target - Q[s, a])

    Args:
        Q: float64 array ``(S, A)``; may be updated in place.
        s, a: the state and the action taken, ints.
        r: the reward received, a float.
        s_next: the state reached, an int.
        terminated: True when ``s_next`` ends the episode (no future reward).
        alpha: the learning rate; gamma: the discount factor.

    Returns:
        The updated table ``Q``.

    Example:
        >>> q_learning_update(np.zeros((2, 2)), 0, 1, 1.0, 1, False, 0.5, 0.9)
        array([[0. , 0.5],
               [0. , 0. ]])
    """
    return Q


def sarsa_update(Q, s, a, r, s_next, a_next, terminated, alpha, gamma):
    """One SARSA step on the transition ``(s, a, r, s_next, a_next)``.

        target = r + gamma * Q[s_next, a_next] * (1 - terminated)
        Q[s, a] <- Q[s, a] + alpha * (target - Q[s, a])

    Args:
        Q: float64 array ``(S, A)``; may be updated in place.
        s, a, r, s_next: as in :func:`q_learning_update`.
        a_next: the action the agent will take in ``s_next``.
        terminated, alpha, gamma: as in :func:`q_learning_update`.

    Returns:
        The updated table ``Q``.

    Example:
        >>> Q = np.array([[0.0, 0.0], [2.0, 4.0]])
        >>> sarsa_update(Q, 0, 0, 0.0, 1, 0, False, 0.5, 1.0)[0]
        array([1., 0.])
    """
    return Q


def greedy_policy(Q):
    """The greedy policy of a table: the best action in every state.

    Args:
        Q: float64 array ``(S, A)``.

    Returns:
        int array ``(S,)``: ``argmax_a Q[s, a]`` per state, the lowest index on ties.

    Example:
        >>> greedy_policy(np.array([[0.0, 1.0], [3.0, 3.0]]))
        array([1, 0])
    """
    return Q


def train_q_learning(env, n_episodes, alpha=0.5, gamma=0.99, epsilon=0.1, seed=0):
    """Learns a Q-table on ``env`` by Q-learning with epsilon-greedy exploration.

    Start from a table of zeros ``(S, A)`` (``env.observation_space.n`` by
    ``env.action_space.n``) and a generator ``np.random.default_rng(seed)``.
    Each episode: reset the environment (pass ``seed`` to the first reset
    only), then until the episode is terminated or truncated, choose an action
    epsilon-greedily, step, and apply :func:`q_learning_update` (bootstrapping
    unless *terminated*: a truncated episode was cut short, its future is
    still worth something).

    A zero table is all ties, and the lowest-index tie-break would walk into
    the same wall every time: during training, break ties among the greedy
    actions at random (``epsilon_greedy`` itself stays deterministic).

    Args:
        env: a Gymnasium environment with discrete states and actions.
        n_episodes: the number of episodes to run.
        alpha, gamma, epsilon: learning rate, discount, exploration rate.
        seed: seeds both the environment and the exploration.

    Returns:
        The learned table, float64 ``(S, A)``.
    """
    return env
