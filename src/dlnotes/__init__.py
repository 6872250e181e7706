"""dlnotes: the numpy reference implementation behind the dlnotes textbook.

One module per topic; chapters import these for demos and the grader compares
student answers with them. Import the module you need, e.g.
``from dlnotes import metrics``.
"""

__version__ = "0.1.0"
