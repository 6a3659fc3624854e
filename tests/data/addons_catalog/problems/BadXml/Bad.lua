Bad = true
