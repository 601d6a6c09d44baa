"""dlgrade: self-grading deep-learning exercises and timed multiple-choice quizzes."""

__version__ = "0.1.0"
