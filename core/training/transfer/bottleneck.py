"""The "bottleneck" and "fusion" modes: a head on cached features of one or several frozen bases."""
from __future__ import annotations

import numpy as np

from core.runs.layout import BEST_MODEL
from core.training.session import TrainingSession
from core.training.transfer.features import extract_features, plan_features
from core.training.transfer.heads import train_head
from core.training.transfer.network import _build, _choices, _describe_run, _options, _write_description
from core.training.transfer.options import TransferOptions, cache_dir


# --- the mode runners --------------------------------------------------------------------------


def run_bottleneck(session: TrainingSession):
    """Mode "bottleneck" (and "fusion"): cached base features, then the head alone.

    When every feature is cached and an earlier run kept this network's model template
    (core.training.model_template), the bases are not built at all: the head is built alone, starts
    from the state the full build would give it, and the run's models are the template with
    the trained head's weights. Otherwise the whole network is built, and the run keeps the
    template for the next one."""
    options = _options(session)
    choices = _choices(session, options)
    input_size = session.image_size or max(choice.image_size for choice in choices)
    plan = plan_features(session, choices, input_size, options)
    template = _model_template(session, options, choices, input_size)
    seed = session.config.seed
    network = None
    if template is not None and not plan.todo and template.usable(seed):
        try:
            network = _network_from_template(session, template, options, choices, input_size)
        except (OSError, ValueError, KeyError, TypeError):  # a damaged template
            network = None  # build the network as if there were none (and mend the template)
    if network is not None:
        session.log("Reusing the saved base of an earlier run of this network; only the head "
                    "is built and trained.")
        _write_description(session, template.description)
        data = extract_features(session, network, options, plan)
        train_head(session, network, options, data, session.config.epochs)
        return network.model
    network = _build(session, options, choices)
    head_start = [np.array(v.numpy(), copy=True) for layer in network.head_layers
                  for v in layer.variables]
    description = _describe_run(session, network, options)
    data = extract_features(session, network, options, plan)
    best_head = train_head(session, network, options, data, session.config.epochs)
    best_file = session.writer.path / BEST_MODEL
    if template is not None and best_head is not None and best_file.is_file():
        template.keep(best_file, best_head, head_start, seed, description)
    return network.model


def _model_template(session: TrainingSession, options: TransferOptions, choices: list,
                    input_size: int):
    """This network's template in the cache folder (None when caching is off)."""
    if not options.use_cache:
        return None
    from core.training.model_template import ModelTemplate, template_key

    spec = {"model": session.config.model, "bases": [choice.describe() for choice in choices],
            "input_size": input_size, "num_classes": session.num_classes,
            "pooling": options.pooling, "head": options.head, "dropout": options.dropout,
            "hidden_units": options.hidden_units, "fusion_base": options.fusion_base}
    return ModelTemplate(cache_dir(options), template_key(spec))


class _TemplatedModel:
    """Stands in for the full model of a run from a template: saving it (RunWriter.save_model)
    writes the template with the head's current weights."""

    def __init__(self, template, head):
        self.template, self.head = template, head

    def save(self, path) -> None:
        self.template.write(path, self.head.get_weights())


def _network_from_template(session, template, options, choices, input_size):
    from core.models.networks import TransferNetwork, build_head, network_name

    feature_dim = int(template.description["config"]["transfer"]["feature_dim"])
    head, head_layers = build_head(feature_dim, session.num_classes, options.head,
                                   options.dropout, options.hidden_units,
                                   name=f"{network_name(choices)}_head")
    template.restore_head_start(head_layers, session.config.seed)
    return TransferNetwork(model=_TemplatedModel(template, head), extractor=None, branches={},
                           head=head, bases={}, head_layers=head_layers, choices=list(choices),
                           input_size=input_size)


def run_fusion(session: TrainingSession):
    """Mode "fusion": several bases, their pooled features concatenated, trained like
    bottleneck; the saved model runs every base and the head."""
    return run_bottleneck(session)
