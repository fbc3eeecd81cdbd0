"""ShortcutDSL toolchain: parse, print, lint, validate, compile, decompile, catalog."""
