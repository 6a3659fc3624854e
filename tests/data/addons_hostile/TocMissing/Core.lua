-- Runs only if the toc is accepted, which it must not be: a listed file is missing.
TocMissingRan = true
