"""The search read model's benchmark (issue 20): a generated catalogue (catalogue.py, names.py),
a query mix (queries.py), and what is measured over them (measure.py)."""
