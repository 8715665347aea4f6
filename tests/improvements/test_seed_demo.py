"""The demo data tells a believable story: deployments improve in steps, not in alarms."""

import io

from django.core.management import call_command

from improvements.reporting import metrics


def test_the_demo_xmr_charts_show_routine_variation_and_a_few_signals(db):
    call_command("seed_demo", force=True, stdout=io.StringIO())
    filters = metrics.Filters.default()
    for figure in ("elapsed", "hands_on"):
        chart = metrics.xmr_chart(filters, figure)
        assert len(chart.points) >= 30
        # Most points are routine variation; the steps down show as signals.
        assert 0 < chart.signal_count < len(chart.points) * 0.5, (figure, chart.signal_count)
    first, last = chart.points[:10], chart.points[-10:]
    assert sum(p["value"] for p in last) < sum(p["value"] for p in first)
