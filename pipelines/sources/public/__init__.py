"""Readers for the public reference files (issue 3): data.ameli densities, the RPPS open
extraction, FINESS, La Poste's postcode base and CartoSanté exports.

Each returns a typed polars DataFrame with English column names and refuses a file that does
not have its format with a `SourceFileError` whose French message names the file, the line and
the column. Unlike the landing files, a public file is never loaded in part: it is published
whole, so a row that does not fit means a wrong or damaged file.
"""
