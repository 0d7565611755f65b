"""What the app chose for a run, and why, in plain words (the Train step, under the curves).

A run trained with the recommended recipe records each choice the app made with its reason
in config.json ("recipe": {"choices": [{"setting", "value", "why"}]}, core.training.request);
this view lists those sentences. It takes the place of the curves while its button is down
(so the page never needs more room than the window has), it scrolls, so long reasons are never
cut, and it follows the run the Train step shows (trained now or reopened). Hints written for
the command line ("pass --weights FILE") are left out: the app has its own button for that.
"""
from __future__ import annotations

import html
import re

from PySide6.QtWidgets import QTextBrowser, QToolButton

SETTING_WORDS = {"model": "Network", "stages": "Training", "epochs": "Training",
                 "image_size": "Input size", "augmentation": "Changes to the pictures"}
EMPTY = "When a training ends, what the app chose for it and why appears here."
_COMMAND_LINE = re.compile(r"\s*\([^()]*--[a-z][^()]*\)")  # "(pass --weights FILE once, ...)"


def recipe_items(config: dict) -> list[tuple[str, str]]:
    """(heading, reason) for each choice recorded in a run's config.json, in order."""
    recipe = config.get("recipe") if isinstance(config, dict) else None
    choices = recipe.get("choices", []) if isinstance(recipe, dict) else []
    items = []
    for choice in choices:
        if isinstance(choice, dict) and choice.get("why"):
            setting = str(choice.get("setting", ""))
            items.append((SETTING_WORDS.get(setting, setting.replace("_", " ").capitalize()),
                          _COMMAND_LINE.sub("", str(choice["why"]))))
    return items


class QtRecipeView(QTextBrowser):
    """The reasons of a run's automatic choices, and the card header's button (`toggle`) that
    shows them in place of the curves."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("recipeView")
        self.setAccessibleName("Why these settings")
        self.setToolTip("The settings the app chose for this run, each with its reason.")
        self.setOpenLinks(False)
        self.toggle = QToolButton()
        self.toggle.setObjectName("recipeButton")
        self.toggle.setText("Why these settings")
        self.toggle.setCheckable(True)
        self.toggle.setToolTip("Show what the app chose for this run, and why, in place of the "
                               "curves; press again for the curves.")
        self.setPlainText(EMPTY)

    def show_run(self, run) -> bool:
        """Show the choices recorded in `run` (a `core.runs.run.Run`), and the devices it
        trained on; True if it has any choices."""
        from core.training.distribute import describe

        config = getattr(run, "config", None) or {}
        items = recipe_items(config)
        # "Trained on 2 devices (mirrored), batch 64": a run from the command line's --strategy.
        trained_on = describe(config.get("distribution") if isinstance(config, dict) else None)
        devices = f"<p style='margin:0 0 6px 0'>{html.escape(trained_on)}.</p>" \
            if trained_on else ""
        if not items:
            text = ("You chose the settings of this run (model "
                    f"{config.get('model', '?')}): the app chose nothing.")
            self.setHtml(f"<p style='margin:0 0 6px 0'>{html.escape(text)}</p>" + devices)
            return False
        parts = [f"<p style='margin:0 0 6px 0'>What the app chose for \u201c"
                 f"{html.escape(run.name)}\u201d, and why:</p>"]
        parts += [f"<p style='margin:0 0 6px 0'><b>{html.escape(heading)}.</b> "
                  f"{html.escape(why)}</p>" for heading, why in items]
        self.setHtml("".join(parts) + devices)
        return True

    def clear_for_training(self) -> None:
        self.toggle.setChecked(False)  # the live curves
        self.setPlainText("The app chooses the settings left to it when training starts; its "
                          "reasons appear here when the training ends.")
