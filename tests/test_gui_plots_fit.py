"""Issue 14: the Train step's plots keep a usable height in a small window: below the room
for both, they take turns behind "Loss" / "Accuracy" tabs instead of shrinking to a strip
with their axis labels on top of each other."""
from __future__ import annotations

from test_gui_support import make_window  # noqa: F401


def _curve_height(plot) -> float:
    return plot.getPlotItem().getViewBox().sceneBoundingRect().height()


def test_plots_stay_readable_at_1024x640_and_both_show_at_1366x768(make_window, qtbot):  # noqa: F811
    from gui.qt_training_plots import PLOT_MIN_HEIGHT

    window = make_window(warm_up=False)
    window.show_step(2)
    plots = window.train_page.plots

    window.resize(1024, 640)
    qtbot.waitUntil(plots.tabbed, timeout=5000)
    assert plots.loss_plot.isVisible() and not plots.accuracy_plot.isVisible()
    qtbot.waitUntil(lambda: plots.loss_plot.height() >= PLOT_MIN_HEIGHT, timeout=5000)
    qtbot.waitUntil(lambda: _curve_height(plots.loss_plot) >= 80, timeout=5000)  # 4 y labels
    plots.tabs.setCurrentIndex(1)
    qtbot.waitUntil(plots.accuracy_plot.isVisible, timeout=5000)
    assert not plots.loss_plot.isVisible()
    qtbot.waitUntil(lambda: _curve_height(plots.accuracy_plot) >= 80, timeout=5000)

    window.resize(1366, 768)
    qtbot.waitUntil(lambda: not plots.tabbed(), timeout=5000)
    assert plots.loss_plot.isVisible() and plots.accuracy_plot.isVisible()
    for plot in (plots.loss_plot, plots.accuracy_plot):
        qtbot.waitUntil(lambda: plot.height() >= PLOT_MIN_HEIGHT - 2
                        and _curve_height(plot) >= 80, timeout=5000)
