"""The measures and value added, as pure functions over plain ``reports.figures`` data.

One module per kind of results (``ks1``, ``ks2``, ``ks4``, ``ctf``), each with the same names:
MEASURES, HEADLINE, CHART, PROGRESS, PUPIL_COLUMNS and outcomes(), distribution(), pupil_cells(),
prior_text(), progress_note(), method_notes(). ``reports.analysis`` puts them together; nothing
here reads the database or knows about queues.
"""
