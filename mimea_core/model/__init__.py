"""The MIMEA model: modality encoders (graph, relation, attribute, visual, name) and their fusion."""

from mimea_core.model.inputs import ModelInputs, Vocab, build_inputs, build_vocab
from mimea_core.model.model import MIMEAModel, available_modalities, prepare_inputs

__all__ = ["MIMEAModel", "ModelInputs", "Vocab", "available_modalities", "build_inputs", "build_vocab", "prepare_inputs"]
