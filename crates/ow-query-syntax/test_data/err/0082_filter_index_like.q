# expect: Q316 1 x like /a/
filterIndex x like /a/
