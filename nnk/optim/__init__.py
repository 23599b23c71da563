"""nnk.optim: optimisers and learning-rate schedules, as torch.optim (the schedules also
under nnk.optim.lr_scheduler, where PyTorch keeps them)."""
from . import lr_scheduler
from .lr_scheduler import (ConstantLR, CosineAnnealingLR, ExponentialLR, LambdaLR, LinearLR,
                           MultiStepLR, OneCycleLR, PolynomialLR, ReduceLROnPlateau, StepLR)
from .optimizers import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "StepLR", "MultiStepLR",
           "LambdaLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR", "ConstantLR",
           "PolynomialLR", "OneCycleLR", "ReduceLROnPlateau", "lr_scheduler"]
