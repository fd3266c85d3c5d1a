# expect: Q202 1 where
join left=a where a.x = b.x (SOURCE "g")
