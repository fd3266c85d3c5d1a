# expect: Q203 1 contains
fields eventName
| filter errorCode not contains "Denied"
