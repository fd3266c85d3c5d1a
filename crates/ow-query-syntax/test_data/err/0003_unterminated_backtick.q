# expect: Q102 1 `
fields `foo
