# expect: Q105 1 1abc
fields 1abc
