# expect: Q104 1 ;
fields a; b
