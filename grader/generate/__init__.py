"""Generation of the student's files (stubs, public tests) from solutions/."""

from grader.generate.pipeline import Drift, check_course, generate_course, render_exercise

__all__ = ["Drift", "check_course", "generate_course", "render_exercise"]
