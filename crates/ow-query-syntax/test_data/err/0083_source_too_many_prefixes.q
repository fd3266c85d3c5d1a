# expect: Q317 1 ['a', 'b', 'c', 'd', 'e', 'f']
SOURCE logGroups(namePrefix: ['a', 'b', 'c', 'd', 'e', 'f']) | fields x
