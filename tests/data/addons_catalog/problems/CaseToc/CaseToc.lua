CaseToc = true
