"""Intake of office files: the data dictionary, header and label mapping, typing and validation.

Pure (pandas, no SQL): :mod:`dongxi.intake.columns` describes each kind of table once (columns,
Chinese headers, natural key); :mod:`dongxi.intake.headers` maps a user's headers and labels onto
it; :mod:`dongxi.intake.validate` types the cells and checks the rules, returning every error by
row and column. :mod:`dongxi.store.importer` writes what passed.
"""
