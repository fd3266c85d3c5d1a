# expect: Q203 1 ass
fields eventName
| sort eventName ass
