"""A Toxiproxy-compatible fault proxy for the embedded stack (``gameday proxy``).

Speaks Toxiproxy 2.x's HTTP API so the same clients and scenario files drive it or the real
Toxiproxy. Layout: ``api``/``http`` (control API), ``model``/``gojson``/``errors`` (pure request
parsing and answers), ``collection``/``proxy`` (proxies), ``link``/``stream`` (the data path),
``toxics/`` (one file per toxic, registry in ``toxics/__init__.py``), ``server``/``cli``.
"""
