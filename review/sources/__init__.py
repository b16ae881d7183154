"""Record files in and out: RIS, MEDLINE/nbib, CSV/TSV/XLSX and PubMed XML parsed into
``Record`` objects (pure), spreadsheet safety, and the import and export use cases."""
