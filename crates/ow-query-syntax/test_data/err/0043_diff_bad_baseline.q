# expect: Q211 1 previousYear
diff previousYear
