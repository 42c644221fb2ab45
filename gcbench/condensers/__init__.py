"""Condensation methods: the :class:`~gcbench.condensers.base.Condenser` interface and the built-ins."""

from gcbench.condensers.base import Condenser, MethodSpec, get_condenser, list_condensers, register

__all__ = ["Condenser", "MethodSpec", "get_condenser", "list_condensers", "register"]
