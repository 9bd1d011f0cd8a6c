"""防返贫动态监测 (relapse monitoring): pure engines, tables in, tables out.

``dongxi.monitor.score``: the learned risk score that orders sweeps (never decides inclusion).
"""
