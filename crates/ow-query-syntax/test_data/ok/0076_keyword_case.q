source logGroups(namePrefix: ['x']) | FILTERINDEX a = 'b' | Where a =~ /b/
