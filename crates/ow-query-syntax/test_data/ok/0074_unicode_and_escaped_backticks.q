fields `日本語`, `a.b-c`, `with \` tick`, `back\\slash`
