"""Bank statements read into one shape: pure functions, no database, no Celery.

`parse_statement(data, mapping)` sniffs the format (camt.052/053/054, MT940, OFX in its SGML
and XML forms, CSV) and returns a ParsedStatement, or raises UnprocessableStatement naming
the line or element at fault.
"""
