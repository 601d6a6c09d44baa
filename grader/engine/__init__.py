"""The grading engine: runs an exercise's graders (pytest + our plugin) against a submission."""
