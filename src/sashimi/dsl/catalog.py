"""Action catalog: what actions exist, their parameters, and how names resolve (shortcutdsl.md §3.2, §8.2, §8.3).

One `Catalog` type, two sources:
- `Catalog.core()`: our own curated core catalog shipped in the package (sashimi/dsl/core_catalog/).
- `Catalog.from_reference(dir)`: the reference format (`action_catalog.json` + `param_schemas.json`),
  read by path, never copied into the project.
`Catalog.load(dir_or_None)` picks one (None -> core).

INTERFACE CONTRACT (other modules rely on exactly these names):

    ParamSpec(name, type, enum, handle_wrap, accepts_input, description)
    ActionSpec(identifier, short_name, title, output_name, params, input_param, category, description, aliases)
    Catalog.core() / Catalog.from_reference(path) / Catalog.load(path | None)
    catalog.resolve(name) -> str | None            # §3.2 steps 1-4, None = unknown action
    catalog.get(identifier) -> ActionSpec | None   # by full identifier
    catalog.canonical_name(identifier) -> str      # DSL spelling: suffix for is.workflow.actions.*, else full id
    catalog.handle_wrap(identifier, param) -> str  # "attachment" | "token_string" | "variable_ref" (default attachment)
    catalog.output_name(identifier) -> str         # Apple output name table > catalog title > "Result"
    catalog.known_params(identifier) -> frozenset[str] | None   # None: catalog lists none
    catalog.enum_values(identifier, param) -> tuple[str, ...] | None   # closed set, None if open/unknown
    catalog.is_known_vendor(name) -> bool          # §6.1 tier 3 prefixes
    catalog.identifiers -> tuple[str, ...]
    catalog.short_names -> dict[str, str]          # short name / alias -> identifier (canonical_map)
    catalog.suggest(name, cutoff) -> list[tuple[str, float]]  # fuzzy candidates (for the linter)
"""
