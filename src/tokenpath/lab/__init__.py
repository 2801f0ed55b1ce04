"""The flow lab: real runs of each flow on the demo, recorded hop by hop, and what they exposed.

Part of ``tokenpath demo`` only, on its own loopback origin; nothing in ``tokenpath serve``
imports it (``tests/test_layering.py``). The pieces, bottom up: ``recording`` (the data),
``recorder`` (the ASGI middleware and log handler on every demo server), ``browser`` and
``probe.js`` (Chromium with the lab script), ``flows`` and ``runner`` (the six runs),
``exposures`` (where each secret appeared, found by value), ``diagram`` (the SVG),
``comparison``, ``store`` (``lab.db``), ``app`` (the pages) and ``site`` (the wiring the demo
uses), and the playground (``attacks``) and ``advisor``. See docs/howto/flow-lab.md.
"""

__all__: list[str] = []
