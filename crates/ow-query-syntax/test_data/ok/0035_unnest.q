fields jsonParse(@message) as j | unnest j.items into item | stats sum(item.qty) as units by item.sku
