aardvark = true
