"""What every plot shares: matplotlib is optional and imported only when a figure is drawn."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest

from crmcore.columnar import EventLog
from crmcore.funnel import funnel_report
from crmcore.kernel.errors import MissingDependencyError
from crmcore.plotting import plot_funnel
from tests.plotting.test_funnel import T


def test_importing_crmcore_and_its_reports_does_not_import_matplotlib() -> None:
    code = textwrap.dedent(
        """
        import sys
        import crmcore, crmcore.plotting, crmcore.analytics, crmcore.funnel, crmcore.lifecycle
        import crmcore.loyalty.ledger_batch, crmcore.feedback.breakdowns
        assert "matplotlib" not in sys.modules, "matplotlib imported at module load"
        assert "pandas" not in sys.modules, "pandas imported at module load"
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_without_matplotlib_a_plot_names_the_plot_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    log = EventLog.from_records(
        {"customer_id": "a", "at": T + timedelta(hours=h), "kind": k} for h, k in enumerate("vs")
    )
    report = funnel_report(log, ["v", "s"])
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)  # import fails as if absent
    with pytest.raises(MissingDependencyError) as caught:
        report.plot()
    assert (caught.value.package, caught.value.extra) == ("matplotlib", "plot")
    assert "crmcore[plot]" in str(caught.value)
    with pytest.raises(MissingDependencyError, match="plot_funnel"):
        plot_funnel(report)
