# expect: Q201 1 head
fields x | head 10
