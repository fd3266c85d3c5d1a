fields 1 + 2 * 3 ^ 2 ^ 1 as a, -2 ^ 2 as b, (1 + 2) * 3 as c, a - b - c as d, a / b * c % 7 as e
