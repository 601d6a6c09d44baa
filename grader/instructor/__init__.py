"""The instructor side: grading a class, assignments and releases, Gradescope, nbgrader, reports."""
