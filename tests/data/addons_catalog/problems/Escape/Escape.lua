Escape = true
