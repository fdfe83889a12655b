"""The report PDFs, drawn with reportlab from plain data (reports.figures): no database, no clock.

Keeping the renderers pure means the same figures always give the same bytes, and a report can
be redrawn, tested and compared without any service running.
"""
from reports.pdf.pupils import pupils_pdf
from reports.pdf.summary import summary_pdf
from reports.pdf.trust import trust_pdf

__all__ = ["pupils_pdf", "summary_pdf", "trust_pdf"]
