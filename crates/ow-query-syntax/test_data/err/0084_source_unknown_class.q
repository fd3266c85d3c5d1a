# expect: Q317 1 'COLD'
SOURCE logGroups(class: ['COLD']) | fields x
