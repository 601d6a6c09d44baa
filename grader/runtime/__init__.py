"""The worker-side runtime: all the code a sandboxed worker runs besides the submission.

It imports nothing from the rest of ``grader``, only from this folder (relative imports), NumPy
and the standard library. The sandbox makes this folder visible to the worker as the package
``dlgrade_runtime`` (a read-only bind under bubblewrap, a copy otherwise); the grader's side
imports it as ``grader.runtime``. tests/test_layout.py checks both rules.
"""
