fields a
# comment
| limit 5
