B = true
