"""Value filler (Tier 3): the literals of a decoded program's slots and the names of its variables.

slot_contexts(tokens) -> [SlotContext]     where each slot sits (role, action, param, ...)
ValueFiller.fit(pairs) / .fill(prompt, tokens) -> (slots, var_names) / .save(dir) / .load(dir)
"""

from sashimi.model.filler.context import SlotContext, slot_contexts
from sashimi.model.filler.core import ValueFiller, catalog_tables

__all__ = ["SlotContext", "ValueFiller", "catalog_tables", "slot_contexts"]
