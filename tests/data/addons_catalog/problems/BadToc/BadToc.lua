BadToc = true
