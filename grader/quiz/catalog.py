"""Every question generator a bank can name: the one-step generators (generators.py, which holds
the registry) and the multi-step ones (multistep.py, which registers its own there)."""

from grader.quiz import multistep  # noqa: F401  (its generators register themselves on import)
from grader.quiz.generators import GENERATORS, INFO

__all__ = ["GENERATORS", "INFO"]
