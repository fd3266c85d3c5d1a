fields a + b - c as s, a * b / c % d as m, 2 ^ 3 ^ 2 as p, -x as n, -2 ^ 2 as q, (a + b) * c as r
