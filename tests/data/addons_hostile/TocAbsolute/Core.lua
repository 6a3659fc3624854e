-- Runs only if the toc is accepted, which it must not be.
TocAbsoluteRan = true
